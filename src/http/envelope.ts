import type { Response } from 'express';

export interface CursorPagination {
  next_cursor: string | null;
  has_more: boolean;
  limit: number;
}

export function sendData<T>(res: Response, data: T, status = 200): void {
  res.status(status).json({ data });
}

export function sendList<T>(res: Response, data: T[], pagination: object): void {
  res.status(200).json({ data, pagination });
}
